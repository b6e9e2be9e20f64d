// office.html entry: the congress office's assignment console (人大办交办督办).
import '../lib/base.css';
import '../lib/followup.css';
import './office.css';
import { boot } from '../lib/boot.tsx';
import { notifyOtherFailures } from '../lib/followup-ui.tsx';
import { App } from './App.tsx';

// Failures are shown next to the control that sent the command; any other
// (e.g. one resent from the stored outbox after a reload) becomes a notice.
const conn = boot('office', App, { notifyFailures: false });
notifyOtherFailures(conn);
