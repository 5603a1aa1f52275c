/**
 * Every command the engine takes is reachable by whoever may issue it: trader commands through a protocol
 * method, operator commands through an admin route. (set_position_tpsl was an engine command no trader
 * could send until a method was added for it: this pins that a new command cannot be left out again.)
 */
import { describe, expect, it } from 'vitest';
import { COMMAND_ISSUERS, type CommandType } from '../../engine/commands.js';
import { ROUTES } from '../../src/admin/operator.js';
import { METHODS, type Method } from '../../src/protocol/types.js';

/** The protocol method that sends each trader command. */
const METHOD_OF: Partial<Record<CommandType, Method>> = {
  place_order: 'place',
  amend_order: 'amend',
  cancel_order: 'cancel',
  cancel_all: 'cancel_all',
  set_position_tpsl: 'set_position_tpsl',
};

describe('command coverage', () => {
  const types = Object.keys(COMMAND_ISSUERS) as CommandType[];

  it('every trader command has a protocol method', () => {
    const trader = types.filter((t) => COMMAND_ISSUERS[t] === 'trader');
    expect(trader.sort()).toEqual(Object.keys(METHOD_OF).sort());
    for (const t of trader) expect(METHODS).toContain(METHOD_OF[t]);
  });

  it('every operator command has an admin route', () => {
    const operator = types.filter((t) => COMMAND_ISSUERS[t] === 'operator');
    expect(operator.sort()).toEqual(Object.values(ROUTES).sort());
  });
});
