module.exports = require('../../tools/ci/jest-project.cjs')('scout-gcp', __dirname);
