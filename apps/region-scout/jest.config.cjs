module.exports = {
  displayName: 'region-scout',
  preset: '../../jest.preset.js',
  rootDir: '.',
  reporters: ['default', ['<rootDir>/../../tools/ci/count-reporter.cjs', { project: 'region-scout' }]],
  coverageDirectory: '../../coverage/apps/region-scout',
};
