module.exports = require('../../tools/ci/jest-project.cjs')('gcp-catalog', __dirname);
