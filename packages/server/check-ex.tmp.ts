import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { stringify } from 'yaml';
import { parseWorkflowYaml } from '/work/wt/issue23/packages/server/src/workflows/validate.ts';
for (const f of readdirSync('/tmp/ex23').filter((x) => x.endsWith('.yaml')).sort()) {
  let src = readFileSync(`/tmp/ex23/${f}`, 'utf8');
  try {
    const d = parse(src);
    if (d && d.execution_config) src = stringify(d.execution_config);
  } catch {}
  try {
    parseWorkflowYaml(src);
    console.log('OK  ', f);
  } catch (e: any) {
    console.log('FAIL', f, String(e.details ?? e.message).slice(0, 300));
  }
}
