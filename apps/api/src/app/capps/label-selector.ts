/**
 * Kubernetes label selectors (`app=web,tier!=db,env in (a,b),!legacy`), parsed into requirements the
 * repository turns into SQL. Same grammar as `kubectl get -l`.
 */
export type LabelOperator = 'eq' | 'neq' | 'in' | 'notin' | 'exists' | 'notexists';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

export class LabelSelectorError extends Error {}

/** Splits on commas that are not inside parentheses. */
function clauses(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out.map((c) => c.trim()).filter(Boolean);
}

function checkKey(key: string): string {
  if (!KEY.test(key) || key.length > 316) throw new LabelSelectorError(`"${key}" is not a valid label key`);
  return key;
}

function checkValue(value: string): string {
  if (!VALUE.test(value) || value.length > 63)
    throw new LabelSelectorError(`"${value}" is not a valid label value`);
  return value;
}

export function parseLabelSelector(selector: string | undefined): LabelRequirement[] {
  if (!selector?.trim()) return [];
  return clauses(selector).map((clause): LabelRequirement => {
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(clause);
    if (set) {
      const values = set[3]
        .split(',')
        .map((v) => v.trim())
        .map(checkValue);
      return { key: checkKey(set[1]), operator: set[2] as 'in' | 'notin', values };
    }
    const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(clause);
    if (cmp) {
      return {
        key: checkKey(cmp[1]),
        operator: cmp[2] === '!=' ? 'neq' : 'eq',
        values: [checkValue(cmp[3])],
      };
    }
    if (clause.startsWith('!'))
      return { key: checkKey(clause.slice(1).trim()), operator: 'notexists', values: [] };
    if (/^\S+$/.test(clause)) return { key: checkKey(clause), operator: 'exists', values: [] };
    throw new LabelSelectorError(`cannot parse "${clause}"`);
  });
}
