module.exports = { ...require('../../jest.preset.js'), displayName: 'client-core' };
