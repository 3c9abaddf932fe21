module.exports = require('../../tools/ci/jest-project.cjs')('region-scout', __dirname);
