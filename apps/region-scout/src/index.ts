export { run, buildProgram } from './program';
export { EXIT, CliError } from './errors';
