export { createMessageId } from './message-id.js';
export { addressProblem, hasLineBreakOrNul, isEmailAddress } from './address.js';
export {
  type AddressInput,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_RECIPIENTS,
  type MailAddress,
  type MailAttachment,
  type MailMessage,
  type NormalizedMessage,
  type ValidateMessageOptions,
  validateMessage,
} from './validate.js';
