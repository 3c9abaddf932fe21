module.exports = {
  displayName: 'region-scout',
  preset: '../../jest.preset.js',
  rootDir: '.',
  coverageDirectory: '../../coverage/apps/region-scout',
};
