import '../lib/base.css';
import './delegate.css';
import { boot } from '../lib/boot.tsx';
import { App } from './App.tsx';

boot('delegate', App);
