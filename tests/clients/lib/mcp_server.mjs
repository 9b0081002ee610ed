// Starts a real MCP server from npm — @modelcontextprotocol/server-everything
// (its tools: echo, get-sum, …) — on a free port, over the Streamable HTTP
// transport (url …/mcp) or the legacy SSE one (transport 'sse', url …/sse):
// {url, port, stop()}.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

import { trackChild } from './children.mjs';
import { freePort } from './server.mjs';

const require = createRequire(import.meta.url);

export async function startMcpServer({ transport = 'streamableHttp' } = {}) {
  const main = path.join(path.dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');
  const port = await freePort();
  const child = trackChild(spawn(process.execPath, [main, transport], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  }));
  let output = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`MCP server did not start: ${output}`)), 15000);
    child.stderr.on('data', (d) => {
      output += d;
      if (output.includes('listening on port') || output.includes('Server is running on port')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`MCP server exited (${code}): ${output}`)));
  });
  return {
    port,
    url: `http://127.0.0.1:${port}/${transport === 'sse' ? 'sse' : 'mcp'}`,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    }),
  };
}
