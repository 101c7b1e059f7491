/** CLI entry for tests: the real program plus train/render/export when main does not wire them yet. */
import { buildProgram } from '../../cli/main.js';
import { reportError } from '../../cli/common.js';
import { registerTrain } from '../../cli/train.js';
import { registerRender } from '../../cli/render.js';
import { registerExport } from '../../cli/export.js';

const program = buildProgram();
const has = (n: string): boolean => program.commands.some((c) => c.name() === n);
if (!has('train')) registerTrain(program);
if (!has('render')) registerRender(program);
if (!has('export')) registerExport(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  reportError(e, program.opts());
}
