#!/usr/bin/env node
// `kubectl-scim`, the kubectl plugin (`kubectl scim …` once it is on PATH): the process wiring only.
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), {
  io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
  clock: { now: () => new Date(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
});
// process.exit, not exitCode: client-node's keep-alive sockets would otherwise hold the process open.
// stdout/stderr to files, pipes and terminals are written synchronously on POSIX, so nothing is lost.
process.exit(code);
