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
