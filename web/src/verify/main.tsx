// verify.html entry: the receipt check (回执核验). No credential, no
// WebSocket: one request per check.
import '../lib/base.css';
import './verify.css';
import { render } from 'preact';
import { App } from './App.tsx';

const root = document.getElementById('app');
if (root) render(<App />, root);
