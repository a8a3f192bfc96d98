/**
 * `npm start`'s seeding step (tools/start.sh): the defaults of defaults/ into the local state folder given (.state),
 * unless it was seeded before (tools/ingest/new-state.ts).
 */
import { seedNewState } from './ingest/new-state';

process.exitCode = await seedNewState(process.argv[2] ?? '.state');
