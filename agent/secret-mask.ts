/**
 * The secret values this agent has opened (service secrets, certificate keys, the PSK), so
 * that no log line and no report it writes ever carries one: each is replaced by `***`,
 * as it appears raw and as JSON escapes it. Short values (under 4 characters) are not
 * masked: masking them would garble every line and hides nothing worth hiding.
 */
export class SecretMask {
  private readonly values = new Set<string>();
  private ordered: string[] = [];

  add(value: string): void {
    if (value.length < 4 || this.values.has(value)) return;
    this.values.add(value);
    const escaped = JSON.stringify(value).slice(1, -1);
    // Longest first, so a secret that contains another is masked whole.
    this.ordered = [...new Set([...this.ordered, value, escaped])].sort((a, b) => b.length - a.length);
  }

  /** `text` with every known secret replaced by `***`. */
  apply(text: string): string {
    if (this.ordered.length === 0) return text;
    let out = text;
    for (const v of this.ordered) if (out.includes(v)) out = out.split(v).join("***");
    return out;
  }
}
