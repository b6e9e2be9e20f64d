// unit.html entry: a respondent unit's workspace (承办单位办理交办事项).
import '../lib/base.css';
import '../lib/followup.css';
import './unit.css';
import { boot } from '../lib/boot.tsx';
import { notifyOtherFailures } from '../lib/followup-ui.tsx';
import { App } from './App.tsx';

const conn = boot('unit', App, { notifyFailures: false });
notifyOtherFailures(conn);
