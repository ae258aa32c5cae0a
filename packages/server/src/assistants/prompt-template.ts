/**
 * System-prompt variables: `{{ key }}` placeholders (Jinja2-style, as the reference writes them)
 * replaced by value — built-ins `current_user` and `date`, then the assistant's prompt-variable
 * defaults, then the calling user's own values (mappings), later ones winning. No expressions,
 * filters or statements are evaluated (a small parser, no eval); placeholders of unknown names
 * are left as they are, so prompts that show template syntax keep it.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `Tue, 01 Jul 2026 10:00:00` (Python's `%a, %d %b %Y %H:%M:%S`, UTC). */
export function promptDate(d = new Date()): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

export function renderPrompt(template: string, vars: Record<string, string>): string {
  if (!template.includes('{{')) return template;
  return template.replace(PLACEHOLDER, (whole, name: string) => (Object.prototype.hasOwnProperty.call(vars, name) ? vars[name]! : whole));
}

/** Names used in a template that are not valid variable names (`{{ project name }}`), for the validate route. */
export function invalidPlaceholders(template: string): string[] {
  const out: string[] = [];
  for (const m of template.matchAll(/\{\{\s*(.*?)\s*\}\}/g)) if (!VARIABLE_NAME.test(m[1] ?? '')) out.push(m[1] ?? '');
  return out;
}
