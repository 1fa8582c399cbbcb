/**
 * What Footfall needs in the org (SALESFORCE.md): the fields the admin adds on Account, and the
 * Footfall_Visit__c object. `footfall sf-check` compares the org with this list, and
 * `footfall sf-metadata` writes it as a metadata package the admin can deploy.
 */
export type FieldShape =
  | { kind: 'Number'; precision: number; scale: number }
  | { kind: 'Currency'; precision: number; scale: number }
  | { kind: 'DateTime' }
  | { kind: 'Text'; length: number; externalId?: boolean }
  | { kind: 'LongTextArea'; length: number }
  | { kind: 'Lookup'; referenceTo: string; relationshipName: string }
  | { kind: 'Picklist'; values: string[] }

export interface RequiredField {
  name: string
  label: string
  shape: FieldShape
  description: string
}

/** How an admin would describe the field in Setup. */
export function setupText(shape: FieldShape): string {
  switch (shape.kind) {
    case 'Number':
    case 'Currency':
      return `${shape.kind}(${shape.precision}, ${shape.scale})`
    case 'DateTime':
      return 'Date/Time'
    case 'Text':
      return `Text(${shape.length})${shape.externalId ? ', External ID, Unique' : ''}`
    case 'LongTextArea':
      return `Long Text Area(${shape.length})`
    case 'Lookup':
      return `Lookup(${shape.referenceTo})`
    case 'Picklist':
      return `Picklist: ${shape.values.join(', ')}`
  }
}

export const CUSTOMER_ID_FIELD: RequiredField = {
  name: 'In_Store_Customer_Id__c',
  label: 'In-Store Customer Id',
  shape: { kind: 'Text', length: 255, externalId: true },
  description:
    'The registered in-store customer id; Footfall matches Accounts on it (already in the org).',
}

const number = (precision: number, scale: number): FieldShape => ({
  kind: 'Number',
  precision,
  scale,
})

export const ACCOUNT_FIELDS: readonly RequiredField[] = [
  {
    name: 'Footfall_Visit_Count__c',
    label: 'Footfall Visit Count',
    shape: number(9, 0),
    description: 'Store visits of every status.',
  },
  {
    name: 'Footfall_Visits_30d__c',
    label: 'Footfall Visits (30 days)',
    shape: number(9, 0),
    description: 'Visits entered in the 30 days before the latest event.',
  },
  {
    name: 'Footfall_First_Visit__c',
    label: 'Footfall First Visit',
    shape: { kind: 'DateTime' },
    description: 'Entry time of the earliest visit.',
  },
  {
    name: 'Footfall_Last_Visit__c',
    label: 'Footfall Last Visit',
    shape: { kind: 'DateTime' },
    description: 'Entry time of the latest visit.',
  },
  {
    name: 'Footfall_Last_Store__c',
    label: 'Footfall Last Store',
    shape: { kind: 'Text', length: 64 },
    description: 'Store of the latest visit.',
  },
  {
    name: 'Footfall_Avg_TIS_Minutes__c',
    label: 'Footfall Avg Time in Store (min)',
    shape: number(8, 2),
    description: 'Mean time in store over visits with a known time, in minutes.',
  },
  {
    name: 'Footfall_Total_Spend__c',
    label: 'Footfall Total Spend',
    shape: { kind: 'Currency', precision: 16, scale: 2 },
    description: 'Sum of visit spend.',
  },
  {
    name: 'Footfall_Purchase_Visits__c',
    label: 'Footfall Purchase Visits',
    shape: number(9, 0),
    description: 'Visits with at least one checkout.',
  },
  {
    name: 'Footfall_Top_Brands__c',
    label: 'Footfall Top Brands',
    shape: { kind: 'Text', length: 255 },
    description: 'Up to five brands by spend, highest first, separated by ;.',
  },
  {
    name: 'Footfall_Synced_At__c',
    label: 'Footfall Synced At',
    shape: { kind: 'DateTime' },
    description: 'When Footfall last wrote this Account.',
  },
]

export const VISIT_OBJECT = 'Footfall_Visit__c'

export const VISIT_FIELDS: readonly RequiredField[] = [
  {
    name: 'Visit_Key__c',
    label: 'Visit Key',
    shape: { kind: 'Text', length: 80, externalId: true },
    description: "customer id:id of the visit's first event; Footfall upserts on it.",
  },
  {
    name: 'Account__c',
    label: 'Account',
    shape: { kind: 'Lookup', referenceTo: 'Account', relationshipName: 'Footfall_Visits' },
    description: "The customer's Account.",
  },
  {
    name: 'Store_Id__c',
    label: 'Store Id',
    shape: { kind: 'Text', length: 64 },
    description: "The store of the visit (its entry's).",
  },
  {
    name: 'Entered_At__c',
    label: 'Entered At',
    shape: { kind: 'DateTime' },
    description: 'Entry time (empty when unknown).',
  },
  {
    name: 'Exited_At__c',
    label: 'Exited At',
    shape: { kind: 'DateTime' },
    description: 'Exit time.',
  },
  {
    name: 'Time_In_Store_Minutes__c',
    label: 'Time in Store (min)',
    shape: number(8, 2),
    description: 'Time in store in minutes (empty when unknown).',
  },
  {
    name: 'Spend__c',
    label: 'Spend',
    shape: { kind: 'Currency', precision: 16, scale: 2 },
    description: "Spend over the visit's checkouts.",
  },
  {
    name: 'Brands__c',
    label: 'Brands',
    shape: { kind: 'Text', length: 255 },
    description: 'Brands bought, by spend, separated by ;.',
  },
  {
    name: 'Items__c',
    label: 'Items',
    shape: { kind: 'LongTextArea', length: 131_072 },
    description: 'The checkout lines, as JSON.',
  },
  {
    name: 'Status__c',
    label: 'Status',
    shape: { kind: 'Picklist', values: ['open', 'closed', 'incomplete', 'abandoned'] },
    description: 'open, closed, incomplete or abandoned.',
  },
]

export function isExternalId(field: RequiredField): boolean {
  return field.shape.kind === 'Text' && field.shape.externalId === true
}
