/** The `medfield` command line. One file per command; this file only wires them together. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerConvert } from './convert.js';
import { registerDemo } from './demo.js';
import { registerEval } from './eval.js';
import { registerPhantom } from './phantom.js';
import { registerPreprocess } from './preprocess.js';
import { registerInfo } from './info.js';
import { registerSimulate } from './simulate.js';
import { registerRecon } from './recon.js';
import { registerTrain } from './train.js';
import { registerRender } from './render.js';
import { registerExport } from './export.js';
import { registerNeuralTasks } from './tasks.js';
import { registerBench } from './bench.js';
import { registerSvr } from './svr.js';
import { reportError } from './common.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  registerNeuralTasks();
  const program = new Command();
  program
    .name('medfield')
    .description('3D reconstruction of medical scans with neural fields, on a CPU')
    .version(pkg.version)
    .option('--json', 'print one machine-readable JSON object on stdout (progress and logs go to stderr)')
    .option('-q, --quiet', 'no progress output on stderr')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .exitOverride((err) => {
      // Help and version exit 0; bad usage (commander printed its one-line message) exits 2.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') process.exit(0);
      process.exit(2);
    });
  registerInfo(program);
  registerConvert(program);
  registerPreprocess(program);
  registerPhantom(program);
  registerSimulate(program);
  registerRecon(program);
  registerSvr(program);
  registerTrain(program);
  registerRender(program);
  registerExport(program);
  registerEval(program);
  registerDemo(program);
  registerBench(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    reportError(e, program.opts());
  }
}
