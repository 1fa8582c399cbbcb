/**
 * What Footfall needs in the org (SALESFORCE.md): the fields the admin adds on Account, and the
 * Footfall_Visit__c object. `footfall sf-check` compares the org with this list.
 */
export interface RequiredField {
  name: string
  /** Salesforce describe type. */
  type: 'double' | 'datetime' | 'string' | 'currency' | 'textarea' | 'reference' | 'picklist'
  label: string
  /** As an admin would create it in Setup. */
  setup: string
  externalId?: boolean
}

export const CUSTOMER_ID_FIELD: RequiredField = {
  name: 'In_Store_Customer_Id__c',
  type: 'string',
  label: 'In-Store Customer Id',
  setup: 'Text, External ID, Unique (already in the org)',
  externalId: true,
}

export const ACCOUNT_FIELDS: readonly RequiredField[] = [
  {
    name: 'Footfall_Visit_Count__c',
    type: 'double',
    label: 'Footfall Visit Count',
    setup: 'Number(9, 0)',
  },
  {
    name: 'Footfall_Visits_30d__c',
    type: 'double',
    label: 'Footfall Visits (30 days)',
    setup: 'Number(9, 0)',
  },
  {
    name: 'Footfall_First_Visit__c',
    type: 'datetime',
    label: 'Footfall First Visit',
    setup: 'Date/Time',
  },
  {
    name: 'Footfall_Last_Visit__c',
    type: 'datetime',
    label: 'Footfall Last Visit',
    setup: 'Date/Time',
  },
  {
    name: 'Footfall_Last_Store__c',
    type: 'string',
    label: 'Footfall Last Store',
    setup: 'Text(64)',
  },
  {
    name: 'Footfall_Avg_TIS_Minutes__c',
    type: 'double',
    label: 'Footfall Avg Time in Store (min)',
    setup: 'Number(8, 2)',
  },
  {
    name: 'Footfall_Total_Spend__c',
    type: 'currency',
    label: 'Footfall Total Spend',
    setup: 'Currency(16, 2)',
  },
  {
    name: 'Footfall_Purchase_Visits__c',
    type: 'double',
    label: 'Footfall Purchase Visits',
    setup: 'Number(9, 0)',
  },
  {
    name: 'Footfall_Top_Brands__c',
    type: 'string',
    label: 'Footfall Top Brands',
    setup: 'Text(255)',
  },
  {
    name: 'Footfall_Synced_At__c',
    type: 'datetime',
    label: 'Footfall Synced At',
    setup: 'Date/Time',
  },
]

export const VISIT_OBJECT = 'Footfall_Visit__c'

export const VISIT_FIELDS: readonly RequiredField[] = [
  {
    name: 'Visit_Key__c',
    type: 'string',
    label: 'Visit Key',
    setup: 'Text(80), External ID, Unique',
    externalId: true,
  },
  { name: 'Account__c', type: 'reference', label: 'Account', setup: 'Lookup(Account)' },
  { name: 'Store_Id__c', type: 'string', label: 'Store Id', setup: 'Text(64)' },
  { name: 'Entered_At__c', type: 'datetime', label: 'Entered At', setup: 'Date/Time' },
  { name: 'Exited_At__c', type: 'datetime', label: 'Exited At', setup: 'Date/Time' },
  {
    name: 'Time_In_Store_Minutes__c',
    type: 'double',
    label: 'Time in Store (min)',
    setup: 'Number(8, 2)',
  },
  { name: 'Spend__c', type: 'currency', label: 'Spend', setup: 'Currency(16, 2)' },
  { name: 'Brands__c', type: 'string', label: 'Brands', setup: 'Text(255)' },
  { name: 'Items__c', type: 'textarea', label: 'Items', setup: 'Long Text Area(131072)' },
  {
    name: 'Status__c',
    type: 'picklist',
    label: 'Status',
    setup: 'Picklist: open, closed, incomplete, abandoned',
  },
]
