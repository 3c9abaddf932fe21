module.exports = require('../../jest.project.cjs')('manifests', __dirname);
