import { describe, expect, it } from 'vitest';
import { Coalescer, submitSettled } from '../../src/lib/coalescer.js';

/** A round that stays open until the test lets it answer, recording what it was given. */
function heldRounds() {
  const rounds: { inputs: number[]; answer: () => void; fail: (error: Error) => void }[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const round = (inputs: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      const done = () => {
        running -= 1;
      };
      rounds.push({
        inputs,
        answer: () => {
          done();
          resolve(inputs.map((input) => `answer ${input}`));
        },
        fail: (error) => {
          done();
          reject(error);
        },
      });
    });
  return { rounds, round, mostAtOnce: () => mostAtOnce };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Rounds that answer each call with its own input at once, and the inputs of each. */
function echoedRounds() {
  const rounds: number[][] = [];
  const round = async (inputs: number[]) => {
    rounds.push(inputs);
    return inputs;
  };
  return { rounds, round };
}

describe('coalescing calls into rounds', () => {
  it('starts a round at once for a call that finds a free slot', async () => {
    const held = heldRounds();
    const coalescer = new Coalescer(held.round, { maxBatch: 10, maxInFlight: 1 });

    const answer = coalescer.submit(1);
    await tick();
    expect(held.rounds.map((round) => round.inputs)).toEqual([[1]]);
    held.rounds[0]?.answer();
    await expect(answer).resolves.toBe('answer 1');
  });

  it('groups the calls that arrive while every slot is busy into the next round', async () => {
    const held = heldRounds();
    const coalescer = new Coalescer(held.round, { maxBatch: 3, maxInFlight: 2 });

    const answers = [1, 2, 3, 4, 5, 6, 7].map((input) => coalescer.submit(input));
    await tick();
    // The first two found a free slot each; the rest wait for one.
    expect(held.rounds.map((round) => round.inputs)).toEqual([[1], [2]]);

    held.rounds[0]?.answer();
    await tick();
    expect(held.rounds.map((round) => round.inputs)).toEqual([[1], [2], [3, 4, 5]]);
    held.rounds[1]?.answer();
    await tick();
    expect(held.rounds.map((round) => round.inputs)).toEqual([[1], [2], [3, 4, 5], [6, 7]]);
    held.rounds[2]?.answer();
    held.rounds[3]?.answer();
    await expect(Promise.all(answers)).resolves.toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => `answer ${n}`),
    );
    expect(held.mostAtOnce()).toBe(2);
  });

  it('never runs more rounds at once than allowed, however many calls arrive', async () => {
    const coalescer = new Coalescer(
      async (inputs: number[]) => {
        await tick();
        return inputs.map((input) => input * 2);
      },
      { maxBatch: 4, maxInFlight: 3 },
    );
    let most = 0;
    const answers = Array.from({ length: 200 }, async (_, input) => {
      const answer = coalescer.submit(input);
      most = Math.max(most, coalescer.inFlight);
      return answer;
    });
    const results = await Promise.all(answers);

    expect(results).toEqual(Array.from({ length: 200 }, (_, input) => input * 2));
    expect(most).toBe(3);
    expect(coalescer.inFlight).toBe(0);
  });

  it('holds a round back for company when asked to linger', async () => {
    const { rounds, round } = echoedRounds();
    const coalescer = new Coalescer(round, { maxBatch: 10, maxInFlight: 1, lingerMs: 40 });
    const first = coalescer.submit(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(rounds).toEqual([]);
    const second = coalescer.submit(2);

    await expect(Promise.all([first, second])).resolves.toEqual([1, 2]);
    expect(rounds).toEqual([[1, 2]]);
  });

  it('starts a lingering round at once when it is full', async () => {
    const { rounds, round } = echoedRounds();
    const coalescer = new Coalescer(round, { maxBatch: 2, maxInFlight: 1, lingerMs: 60_000 });
    await expect(Promise.all([coalescer.submit(1), coalescer.submit(2)])).resolves.toEqual([1, 2]);
    expect(rounds).toEqual([[1, 2]]);
  });

  it('starts a round at once for a call that asks for it, with the calls lingering', async () => {
    const { rounds, round } = echoedRounds();
    const coalescer = new Coalescer(round, { maxBatch: 10, maxInFlight: 1, lingerMs: 60_000 });
    const lingering = coalescer.submit(1);
    const urgent = coalescer.submit(2, { now: true });
    expect(coalescer.inFlight).toBe(1);
    expect(rounds).toEqual([[1, 2]]);

    await expect(Promise.all([lingering, urgent])).resolves.toEqual([1, 2]);
  });

  it('holds a call that asks for a round at once until a slot is free', async () => {
    const held = heldRounds();
    const coalescer = new Coalescer(held.round, { maxBatch: 10, maxInFlight: 1, lingerMs: 60_000 });
    const first = coalescer.submit(1, { now: true });
    const second = coalescer.submit(2, { now: true });
    await tick();
    expect(held.rounds.map((round) => round.inputs)).toEqual([[1]]);

    held.rounds[0]?.answer();
    await expect(first).resolves.toBe('answer 1');
    await tick();
    expect(held.rounds.map((round) => round.inputs)).toEqual([[1], [2]]);
    held.rounds[1]?.answer();
    await expect(second).resolves.toBe('answer 2');
  });

  it('rejects only the calls of a round that failed, and goes on with the next', async () => {
    const held = heldRounds();
    const coalescer = new Coalescer(held.round, { maxBatch: 10, maxInFlight: 1 });

    const first = coalescer.submit(1);
    const later = [2, 3].map((input) => coalescer.submit(input));
    await tick();
    held.rounds[0]?.fail(new Error('the database went away'));
    await expect(first).rejects.toThrow('the database went away');

    await tick();
    expect(held.rounds[1]?.inputs).toEqual([2, 3]);
    held.rounds[1]?.answer();
    await expect(Promise.all(later)).resolves.toEqual(['answer 2', 'answer 3']);
  });

  it('rejects the calls of a round that answered a different number of outputs', async () => {
    const coalescer = new Coalescer(async (_inputs: number[]) => ['only one'], {
      maxBatch: 10,
      maxInFlight: 1,
    });
    const busy = coalescer.submit(0);
    const grouped = [1, 2].map((input) => coalescer.submit(input));

    await expect(busy).resolves.toBe('only one');
    for (const answer of grouped) await expect(answer).rejects.toThrow('answered 1 of 2');
  });

  it('gathers the calls of one turn of the event loop into one round, slots free', async () => {
    const held = heldRounds();
    const coalescer = new Coalescer(held.round, { maxBatch: 10, maxInFlight: 4, gatherTurn: true });

    const sameTurn = [1, 2, 3].map((input) => coalescer.submit(input));
    expect(held.rounds).toEqual([]);
    await tick();
    expect(held.rounds.map((round) => round.inputs)).toEqual([[1, 2, 3]]);

    const nextTurn = coalescer.submit(4);
    await tick();
    // A free slot: the later turn's call does not wait for the first round.
    expect(held.rounds.map((round) => round.inputs)).toEqual([[1, 2, 3], [4]]);
    for (const round of held.rounds) round.answer();
    await expect(Promise.all([...sameTurn, nextTurn])).resolves.toEqual([
      'answer 1',
      'answer 2',
      'answer 3',
      'answer 4',
    ]);
  });

  it('gives each call its own outcome when rounds answer outcomes', async () => {
    const coalescer = new Coalescer(
      async (inputs: number[]): Promise<PromiseSettledResult<number>[]> =>
        inputs.map((input) =>
          input % 2 === 0
            ? { status: 'fulfilled', value: input * 10 }
            : { status: 'rejected', reason: new Error(`odd ${input}`) },
        ),
      { maxBatch: 10, maxInFlight: 1, gatherTurn: true },
    );
    const [two, three, four] = [2, 3, 4].map((input) => submitSettled(coalescer, input));
    await expect(two).resolves.toBe(20);
    await expect(three).rejects.toThrow('odd 3');
    await expect(four).resolves.toBe(40);
  });
});
