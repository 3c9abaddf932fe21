module.exports = require('../../tools/ci/jest-project.cjs')('scout-domain', __dirname);
