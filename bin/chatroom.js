#!/usr/bin/env node
let cli;
try {
  cli = await import('../dist/cli/index.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/cli/index.js')) throw err;
  console.error('chatroom: the built files are missing; run `npm run build` first.');
  process.exitCode = 1;
}
if (cli) process.exitCode = await cli.run(process.argv);
