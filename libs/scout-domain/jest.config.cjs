module.exports = {
  displayName: 'scout-domain',
  preset: '../../jest.preset.js',
  rootDir: '.',
  reporters: ['default', ['<rootDir>/../../tools/ci/count-reporter.cjs', { project: 'scout-domain' }]],
  coverageDirectory: '../../coverage/libs/scout-domain',
};
