module.exports = {
  displayName: 'fleet-spec',
  preset: '../../jest.preset.js',
  rootDir: '.',
  reporters: ['default', ['<rootDir>/../../tools/ci/count-reporter.cjs', { project: 'fleet-spec' }]],
  coverageDirectory: '../../coverage/libs/fleet-spec',
};
