/** Token usage summed over the steps of one agent run, priced with the model's configured cost. */
import type { LanguageModelUsage } from 'ai';
import type { ModelConfig } from './models-config.js';
import type { TokenUsage } from './types.js';

export class UsageMeter {
  input = 0;
  output = 0;
  cached = 0;

  constructor(private readonly cost: ModelConfig['cost']) {}

  add(u: LanguageModelUsage | undefined): void {
    if (!u) return;
    this.input += u.inputTokens ?? 0;
    this.output += u.outputTokens ?? 0;
    this.cached += u.inputTokenDetails?.cacheReadTokens ?? u.cachedInputTokens ?? 0;
  }

  /** A provider-level (LanguageModelV3) step usage. */
  addV3(u: { inputTokens: { total: number | undefined; cacheRead: number | undefined }; outputTokens: { total: number | undefined } } | undefined): void {
    if (!u) return;
    this.input += u.inputTokens.total ?? 0;
    this.output += u.outputTokens.total ?? 0;
    this.cached += u.inputTokens.cacheRead ?? 0;
  }

  /** USD: uncached input × input price + cached input × cache price (input price when unset) + output × output price. */
  money(): number {
    const c = this.cost;
    if (!c) return 0;
    const cached = Math.min(this.cached, this.input);
    const v = (this.input - cached) * c.input + cached * (c.cache_read_input_token_cost ?? c.input) + this.output * c.output;
    return Math.round(v * 1e10) / 1e10;
  }

  snapshot(): TokenUsage {
    return { input_tokens: this.input, output_tokens: this.output, cached_tokens: this.cached, money_spent: this.money() };
  }
}
