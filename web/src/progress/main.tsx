// progress.html entry: the public follow-up progress. No credential, no
// WebSocket: it polls the public JSON every 30 s.
import '../lib/base.css';
import '../lib/followup.css';
import './progress.css';
import { render } from 'preact';
import { App } from './App.tsx';

const root = document.getElementById('app');
if (root) render(<App />, root);
