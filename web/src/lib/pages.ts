// Which page a credential's role belongs on (for "wrong page" messages).

/** The page a role belongs on. */
export function pageOf(role: string): string {
  switch (role) {
    case 'moderator':
    case 'auditor':
      return 'moderator.html';
    case 'screen':
      return 'screen.html';
    case 'unit':
      return 'unit.html';
    case 'office':
      return 'office.html';
    default:
      return 'delegate.html';
  }
}

/**
 * The link to `role`'s page that keeps the credential (in the fragment, like
 * a card's link): the right page then opens without asking again.
 */
export function linkOf(role: string, token: string | null): string {
  const page = pageOf(role);
  return token ? `${page}#token=${encodeURIComponent(token)}` : page;
}
