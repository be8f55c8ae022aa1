export { UserBudget, WorkBudgets, readAllRefusal, type Spend } from './user-budget.js';
export { replayCost } from './replay-cost.js';
