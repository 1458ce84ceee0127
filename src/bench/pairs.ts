export type ScenarioName = 'uniform' | 'hot-source' | 'hot-destination';

export interface Pair {
  source: string;
  destination: string;
}

/**
 * Picks the accounts of the next transfer: any two distinct accounts, or
 * every transfer from the first account, or every transfer to it.
 */
export function pairPicker(scenario: ScenarioName, accountIds: string[]): () => Pair {
  if (accountIds.length < 2) throw new Error('a scenario needs at least two accounts');
  const hot = at(accountIds, 0);
  const other = () => at(accountIds, 1 + Math.floor(Math.random() * (accountIds.length - 1)));
  switch (scenario) {
    case 'hot-source':
      return () => ({ source: hot, destination: other() });
    case 'hot-destination':
      return () => ({ source: other(), destination: hot });
    case 'uniform':
      return () => {
        const source = at(accountIds, Math.floor(Math.random() * accountIds.length));
        let destination = source;
        while (destination === source) {
          destination = at(accountIds, Math.floor(Math.random() * accountIds.length));
        }
        return { source, destination };
      };
  }
}

/** A random amount in minor units, 1 to 1,000. */
export function randomAmount(): number {
  return 1 + Math.floor(Math.random() * 1_000);
}

function at(ids: string[], index: number): string {
  const id = ids[index];
  if (id === undefined) throw new Error(`no account at ${index}`);
  return id;
}
