// node --import tsx bench/probe.tmp.ts <kubeconfig> <ns> <mode> [node flags...]
import { BenchOperator } from './lib/operator.js';
const [kubeconfig, ns, mode, ...nodeArgs] = process.argv.slice(2);
const op = new BenchOperator({ kubeconfig: kubeconfig!, namespaces: [ns!], logFile: '/tmp/probe.log', mode: mode as 'controller', nodeArgs });
const ready = await op.waitReady();
const r0 = op.memory();
await new Promise((r) => setTimeout(r, 8000));
const m = op.memory();
const s = await op.metrics();
const g = (k: string) => ((s.get(k) ?? NaN) / 1e6).toFixed(1);
console.log(JSON.stringify({ mode, nodeArgs, readyMs: Math.round(ready), listMs: op.listMs, rssReady: r0.rssMB.toFixed(1), rss: m.rssMB.toFixed(1), peak: m.peakMB.toFixed(1), heapUsed: g('nodejs_heap_size_used_bytes'), heapTotal: g('nodejs_heap_size_total_bytes'), external: g('nodejs_external_memory_bytes') }));
await op.stop();
