/**
 * Rancher's label macros: `${stack_name}` and `${service_name}` expand to the names of the
 * service being scheduled, so one compose file can say "not next to my own containers".
 * docker-compose files have to write `$${...}` to get a literal `$`, so that form is
 * accepted too.
 */

export const MACRO_NAMES = ["stack_name", "service_name"] as const;
export type MacroName = (typeof MACRO_NAMES)[number];

const macroPattern = /\$?\$\{([^}]*)\}/g;

export interface MacroContext {
  stackName: string;
  serviceName: string;
}

export function expandMacros(text: string, ctx: MacroContext): string {
  if (text.indexOf("${") < 0) return text;
  return text.replace(macroPattern, (whole, name: string) => {
    if (name === "stack_name") return ctx.stackName;
    if (name === "service_name") return ctx.serviceName;
    return whole;
  });
}

/** Problems with the macros in `text`, as sentences (empty when fine). */
export function macroProblems(text: string): string[] {
  const problems: string[] = [];
  for (const m of text.matchAll(macroPattern)) {
    if (!(MACRO_NAMES as readonly string[]).includes(m[1])) {
      problems.push(`unknown macro "${m[0]}"; expected \${stack_name} or \${service_name}`);
    }
  }
  const unclosed = text.replace(macroPattern, "").indexOf("${");
  if (unclosed >= 0) problems.push(`unclosed macro at "${text.slice(unclosed)}"; expected \${stack_name} or \${service_name}`);
  return problems;
}
