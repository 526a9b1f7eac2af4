// How the commands kafkasim prints for a person to paste begin.

/**
 * What runs the project's command from its directory, as the README says (`kafkasim` alone is on
 * no PATH unless the package is installed globally), so that a line pasted as printed runs.
 */
export const KAFKASIM = 'npx kafkasim';
