/**
 * The integrations store as the toolkits' credential source: a tool's credentials are the
 * integration its settings name (by id), else the caller's own default integration of the tool's
 * credential type in the project, else the project's (the reference's lookup order).
 */
import type { CredentialLookup } from '../toolkits/types.js';
import { IntegrationService, type Integration } from './service.js';

export function toolCredentials(integrations: IntegrationService): CredentialLookup {
  return {
    async find({ user, project, credentialType, settingId }) {
      if (settingId) {
        const i = await integrations.resolve({ user, project, id: settingId, type: credentialType });
        return i ? IntegrationService.valuesObject(i) : null;
      }
      const all = (await integrations.allOfType(credentialType)).filter((i) => i.projectName === project);
      const pick = (xs: Integration[]) => xs.find((i) => i.isDefault) ?? xs[0];
      const own = pick(all.filter((i) => i.settingType === 'user' && i.userId === user.id));
      const shared = pick(all.filter((i) => i.settingType === 'project' && (user.isAdmin || user.projects.includes(project))));
      const chosen = own ?? shared;
      return chosen ? IntegrationService.valuesObject(chosen) : null;
    },
  };
}
