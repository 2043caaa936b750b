export { createMessageId } from './message-id.js';
export { addressProblem, hasLineBreakOrNul, isEmailAddress, splitAddressList } from './address.js';
export type {
  AttachmentAccess,
  AttachmentEncoding,
  MailAttachment,
  NormalizedAttachment,
} from './attachments.js';
export { toNodemailer } from './to-nodemailer.js';
export {
  type AddressInput,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_RECIPIENTS,
  type MailAddress,
  type MailEnvelope,
  type MailMessage,
  type NormalizedMessage,
  type ValidateMessageOptions,
  validateMessage,
} from './validate.js';
