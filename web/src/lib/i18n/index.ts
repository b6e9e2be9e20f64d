// The language switch: Simplified Chinese by default, English on request;
// the choice is kept in localStorage. Every UI string comes from `t()`.
//
// Reading `t()` inside a component subscribes it to the language signal, so
// switching re-renders everything. The English catalogue is a separate chunk
// loaded on demand (it would otherwise cost every delegate's phone ~2.7 kB
// gzip); until it has arrived `t()` answers in Chinese.

import { computed, effect, signal } from '@preact/signals';
import { storage } from '../storage.ts';
import { zh, type Messages } from './zh.ts';

export type Lang = 'zh' | 'en';
export type { Messages };

const KEY = 'wz:lang';

function initial(): Lang {
  const saved = storage.get(KEY);
  return saved === 'en' || saved === 'zh' ? saved : 'zh';
}

export const lang = signal<Lang>(initial());

const catalogs = signal<Partial<Record<Lang, Messages>>>({ zh });
const messages = computed(() => catalogs.value[lang.value] ?? zh);

/** The current messages. */
export function t(): Messages {
  return messages.value;
}

/** Loads a catalogue if needed (resolves once `t()` answers in it). */
export async function loadLang(l: Lang): Promise<void> {
  if (catalogs.value[l]) return;
  if (l === 'en') {
    const { en } = await import('./en.ts');
    catalogs.value = { ...catalogs.value, en };
  }
}

/** Switches the language, persists the choice, and resolves once its catalogue is loaded. */
export function setLang(next: Lang): Promise<void> {
  lang.value = next;
  storage.set(KEY, next);
  return loadLang(next);
}

if (lang.value !== 'zh') void loadLang(lang.value);

if (typeof document !== 'undefined') {
  effect(() => {
    document.documentElement.lang = (catalogs.value[lang.value] ?? zh).locale;
  });
}

export { zh };
