module.exports = require('./ci/jest-project.cjs')('tools', __dirname);
