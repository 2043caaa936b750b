/** A link the fix points to (portal page, Microsoft doc). */
export interface DiagnosticLink {
  label: string;
  url: string;
}

/** What to do about a failed or warning step, with the user's own values filled in. */
export interface DiagnosticFix {
  /** One or two sentences: the setup step that fixes it. */
  summary: string;
  /** Copy-pasteable commands (Exchange Online PowerShell unless said otherwise). */
  commands?: string[];
  links?: DiagnosticLink[];
  /**
   * Config paths (`auth.scope`, `tls.ca`) the fix changes, so a front end can open its editor at
   * that field. Absent when the fix is outside the entry (portal, PowerShell).
   */
  fields?: string[];
}
