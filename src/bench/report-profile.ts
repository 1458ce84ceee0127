import type { ProfileSummary } from './cpu-profile.js';
import type { StatementStat } from './pg-statements.js';
import { fixed, formatTable } from './table.js';

/** Where each profiled process spent its CPU, by area and by function (self time). */
export function renderProfiles(profiles: ProfileSummary[], top = 12): string {
  return profiles
    .map((profile) => {
      const areas = profile.areas
        .slice(0, 8)
        .map((area) => `${area.name} ${fixed(area.share * 100)}%`)
        .join(', ');
      const functions = formatTable(
        ['function (self time)', 'ms', 'share'],
        profile.functions
          .slice(0, top)
          .map((spot) => [spot.name, fixed(spot.selfMs), `${fixed(spot.share * 100, 1)}%`]),
      );
      return [
        `${profile.process}: busy ${fixed(profile.busyMs / 1000, 1)} s of ` +
          `${fixed(profile.wallMs / 1000, 1)} s; by area: ${areas}`,
        functions,
      ].join('\n');
    })
    .join('\n\n');
}

export function renderStatements(statements: StatementStat[]): string {
  return formatTable(
    ['statement', 'calls', 'total ms', 'mean ms'],
    statements.map((statement) => [
      statement.query.slice(0, 90),
      fixed(statement.calls),
      fixed(statement.totalMs),
      fixed(statement.meanMs, 2),
    ]),
  );
}
