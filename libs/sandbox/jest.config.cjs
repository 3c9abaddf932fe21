module.exports = require('../../tools/ci/jest-project.cjs')('sandbox', __dirname);
