module.exports = {
  displayName: 'gcp-catalog',
  preset: '../../jest.preset.js',
  rootDir: '.',
  coverageDirectory: '../../coverage/libs/gcp-catalog',
};
