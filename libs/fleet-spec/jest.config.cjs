module.exports = require('../../tools/ci/jest-project.cjs')('fleet-spec', __dirname);
