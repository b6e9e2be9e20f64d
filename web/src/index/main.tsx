import '../lib/base.css';
import './index.css';
import { render } from 'preact';
import { t } from '../lib/i18n/index.ts';
import { JoinCodeForm, LangSwitch } from '../lib/ui.tsx';

function Index() {
  const m = t().app;
  return (
    <main class="index">
      <header class="index-head">
        <h1>{m.index}</h1>
        <LangSwitch />
      </header>
      <section class="index-join">
        <JoinCodeForm />
      </section>
      <p class="muted">{m.indexHint}</p>
      <nav aria-label={m.pages}>
        <ul>
          <li>
            <a href="moderator.html">{m.indexModerator}</a>
          </li>
          <li>
            <a href="delegate.html">{m.indexDelegate}</a>
          </li>
          <li>
            <a href="screen.html">{m.indexScreen}</a>
          </li>
          <li>
            <a href="office.html">{m.indexOffice}</a>
          </li>
          <li>
            <a href="unit.html">{m.indexUnit}</a>
          </li>
          <li>
            <a href="progress.html">{m.indexProgress}</a>
          </li>
          <li>
            <a href="verify.html">{m.indexVerify}</a>
          </li>
        </ul>
      </nav>
    </main>
  );
}

const root = document.getElementById('app');
if (root) render(<Index />, root);
