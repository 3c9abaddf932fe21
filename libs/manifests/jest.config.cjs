module.exports = require('../../tools/ci/jest-project.cjs')('manifests', __dirname);
