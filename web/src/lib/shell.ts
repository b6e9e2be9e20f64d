// Registers the offline app shell's service worker (src/sw/sw.ts, built as
// /sw.js; scope: the whole site). Called by every page that boots a live
// connection, after the token was taken out of the address bar. Only in a
// built page (the dev server has no sw.js) and where the browser allows
// service workers (a secure context: https, or localhost / 127.0.0.1).
// A failure changes nothing: the page works as before, without the shell.

export interface ShellEnv {
  dev: boolean;
  secure: boolean;
  serviceWorker?: Pick<ServiceWorkerContainer, 'register'>;
  /** Runs `f` once the page has loaded (so the shell's downloads never compete with the page's own). */
  afterLoad: (f: () => void) => void;
}

export function registerShell(env: ShellEnv = browserEnv()): boolean {
  const sw = env.serviceWorker;
  if (env.dev || !env.secure || !sw) return false;
  env.afterLoad(() => {
    sw.register('/sw.js', { scope: '/' }).catch(() => undefined);
  });
  return true;
}

function browserEnv(): ShellEnv {
  return {
    dev: import.meta.env.DEV,
    secure: globalThis.isSecureContext === true,
    serviceWorker: typeof navigator !== 'undefined' && 'serviceWorker' in navigator ? navigator.serviceWorker : undefined,
    afterLoad: (f) => {
      if (document.readyState === 'complete') f();
      else addEventListener('load', f, { once: true });
    },
  };
}
