#!/usr/bin/env node
// Re-renders a report from its raw figures after a change to report.mjs, without re-running:
//   node bench/render.mjs [bench/RESULTS.json]   → writes the .md beside it
import { readFileSync, writeFileSync } from 'node:fs';
import { report } from './report.mjs';

const json = process.argv[2] ?? new URL('RESULTS.json', import.meta.url).pathname;
const results = JSON.parse(readFileSync(json, 'utf8'));
if (!Array.isArray(results.argv)) throw new Error(`${json} does not record the command line that produced it (argv); re-run the suite`);
writeFileSync(json.replace(/\.json$/, '.md'), report(results));
console.log(`wrote ${json.replace(/\.json$/, '.md')}`);
