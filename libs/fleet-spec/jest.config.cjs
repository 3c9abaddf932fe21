module.exports = require('../../jest.project.cjs')('fleet-spec', __dirname);
