import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const BUDGET_FILE = 'budget.json';

/**
 * `daily_budget_usd` of budget.json in the log directory (docs/metrics.md helper
 * 11): 0 when the file, the key or a positive number is missing. A file that
 * is there but unusable is told to `onProblem` and counts as no budget: the
 * dashboard still shows today's spend.
 */
export function readDailyBudget(dir: string, onProblem?: (message: string) => void): number {
  let text: string;
  try {
    text = readFileSync(join(dir, BUDGET_FILE), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') onProblem?.(`${BUDGET_FILE} cannot be read (${code}); daily budget taken as 0, check its permissions`);
    return 0;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    onProblem?.(`${BUDGET_FILE} is not valid JSON (${(err as Error).message}); daily budget taken as 0, fix the file`);
    return 0;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    onProblem?.(`${BUDGET_FILE} is not a JSON object; daily budget taken as 0, write {"daily_budget_usd": N}`);
    return 0;
  }
  const budget = (doc as Record<string, unknown>).daily_budget_usd;
  if (budget === undefined) return 0;
  if (typeof budget !== 'number' || !(budget > 0) || !Number.isFinite(budget)) {
    onProblem?.(`${BUDGET_FILE}: daily_budget_usd is ${JSON.stringify(budget)}, not a positive number; daily budget taken as 0`);
    return 0;
  }
  return budget;
}
