import '../lib/base.css';
import './screen.css';
import { boot } from '../lib/boot.tsx';
import { App } from './App.tsx';

// The screen sends no commands; it only watches (and reconnects by itself).
boot('screen', App, { notifyFailures: false });
