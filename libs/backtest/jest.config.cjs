module.exports = require('../../jest.project.cjs')('backtest', __dirname);
